// The plugin's commands: palette, card context menu, shortcuts and the
// card buttons all run these.
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, InputDialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Action, RequestParams } from './guards';
import { JobView, PanelModel, isActive, isAdjustable, isFinished, isPausable, isPaused, isStoppable } from './model';
import { PanelSettings } from './settings';

export namespace CommandIDs {
  export const open = 'cnnlive:open-panel';
  export const stopJob = 'cnnlive:stop-job';
  export const stopAfterEpoch = 'cnnlive:stop-after-epoch';
  export const cancelJob = 'cnnlive:cancel-job';
  export const removeJob = 'cnnlive:remove-job';
  export const pauseJob = 'cnnlive:pause-job';
  export const resumeJob = 'cnnlive:resume-job';
  export const stopAll = 'cnnlive:stop-all';
  export const removeFinished = 'cnnlive:remove-finished';
}

export interface CommandContext {
  app: JupyterFrontEnd;
  model: PanelModel;
  trans: TranslationBundle;
  settings: () => PanelSettings;
  request: (action: Action, jobId: number, params?: RequestParams) => void;
}

const describe = (job: JobView) => `#${job.id} ${job.name}`;

export function addCommands(ctx: CommandContext): void {
  const { app, model, trans } = ctx;

  /** The job a command acts on: `jobId`, else the card right-clicked (only
   *  when run from the card's context menu). */
  const targetJob = (args: ReadonlyPartialJSONObject): JobView | undefined => {
    if (typeof args.jobId === 'number') {
      return model.jobs.get(args.jobId);
    }
    if (args.fromCard) {
      const node = app.contextMenuHitTest(n => n.classList.contains('jp-cnnlive-card'));
      const id = Number(node?.dataset.jobId);
      return Number.isFinite(id) ? model.jobs.get(id) : undefined;
    }
    return undefined;
  };

  /** A job for `args`, or one picked from `candidates` (asked when several). */
  const pick = async (
    args: ReadonlyPartialJSONObject,
    candidates: JobView[],
    title: string
  ): Promise<JobView | undefined> => {
    if (typeof args.jobId === 'number' || args.fromCard) {
      return targetJob(args);
    }
    if (candidates.length <= 1) {
      return candidates[0];
    }
    const items = candidates.map(describe);
    const answer = await InputDialog.getItem({ title, items, current: 0 });
    return answer.button.accept && answer.value !== null
      ? candidates[items.indexOf(answer.value)]
      : undefined;
  };

  const jobs = () => [...model.jobs.values()];
  const enabledFor = (test: (job: JobView) => boolean) => (args: ReadonlyPartialJSONObject) => {
    if (typeof args.jobId === 'number' || args.fromCard) {
      const job = targetJob(args);
      return !!job && test(job);
    }
    return jobs().some(test);
  };
  const labelFor = (verb: string, generic: string) => (args: ReadonlyPartialJSONObject) => {
    const job = typeof args.jobId === 'number' || args.fromCard ? targetJob(args) : undefined;
    return job ? trans.__('%1 %2', verb, describe(job)) : generic;
  };

  const cancel = async (job: JobView) => {
    if (ctx.settings().confirmCancel) {
      const answer = await showDialog({
        title: trans.__('Cancel job %1?', describe(job)),
        body: trans.__(
          'Cancel ends the job at once; Stop lets it finish its step and keep what it has.'
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Keep running') }),
          Dialog.warnButton({ label: trans.__('Cancel job') })
        ]
      });
      if (!answer.button.accept) {
        return;
      }
    }
    ctx.request('cancel', job.id);
  };

  /** A command on one job: the given or right-clicked one, else one picked. */
  const jobCommand = (
    id: string,
    verb: string,
    generic: string,
    caption: string,
    applies: (job: JobView) => boolean,
    question: string,
    act: (job: JobView) => void | Promise<void>
  ) =>
    app.commands.addCommand(id, {
      label: labelFor(verb, generic),
      caption,
      isEnabled: enabledFor(applies),
      execute: async args => {
        const job = await pick(args, jobs().filter(applies), question);
        if (job && applies(job)) {
          await act(job);
        }
      }
    });

  jobCommand(
    CommandIDs.stopJob,
    trans.__('Stop'),
    trans.__('Stop job'),
    trans.__('Stop gracefully: the job keeps and saves what it has'),
    isStoppable,
    trans.__('Stop which job?'),
    job => ctx.request('stop', job.id)
  );
  jobCommand(
    CommandIDs.stopAfterEpoch,
    trans.__('Stop after epoch'),
    trans.__('Stop training after this epoch'),
    trans.__('Stop a training job at the end of its current epoch (full epoch history, then save)'),
    isAdjustable,
    trans.__('Stop which training job after its epoch?'),
    job => ctx.request('stop', job.id, { after: 'epoch' })
  );
  jobCommand(
    CommandIDs.cancelJob,
    trans.__('Cancel'),
    trans.__('Cancel job'),
    trans.__('Cancel: end the job at once'),
    isActive,
    trans.__('Cancel which job?'),
    cancel
  );
  jobCommand(
    CommandIDs.pauseJob,
    trans.__('Pause'),
    trans.__('Pause job'),
    trans.__('Pause: the job waits at its next safe point until resumed'),
    isPausable,
    trans.__('Pause which job?'),
    job => ctx.request('pause', job.id)
  );
  jobCommand(
    CommandIDs.resumeJob,
    trans.__('Resume'),
    trans.__('Resume job'),
    trans.__('Resume: the paused job goes on'),
    isPaused,
    trans.__('Resume which job?'),
    job => ctx.request('resume', job.id)
  );
  jobCommand(
    CommandIDs.removeJob,
    trans.__('Remove'),
    trans.__('Remove finished job'),
    trans.__('Remove a finished job from the panel and cl.jobs'),
    isFinished,
    trans.__('Remove which job?'),
    job => ctx.request('remove', job.id)
  );
  app.commands.addCommand(CommandIDs.stopAll, {
    label: trans.__('Stop all jobs'),
    caption: trans.__('Stop every running job of this kernel gracefully'),
    isEnabled: () => jobs().some(isStoppable),
    execute: () => {
      const targets = jobs().filter(isStoppable);
      targets.forEach(job => ctx.request('stop', job.id));
      model.setNotice(trans._n('Stopping %1 job', 'Stopping %1 jobs', targets.length));
    }
  });
  app.commands.addCommand(CommandIDs.removeFinished, {
    label: trans.__('Remove finished jobs'),
    caption: trans.__('Remove every stopped, cancelled, completed or failed job'),
    isEnabled: () => jobs().some(isFinished),
    execute: () => {
      jobs()
        .filter(isFinished)
        .forEach(job => ctx.request('remove', job.id));
    }
  });
}
