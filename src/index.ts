// JupyterLab plugin: the "CNN Live" side panel that follows the current
// notebook's kernel, its commands, settings and layout restoration.
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { LabIcon } from '@jupyterlab/ui-components';
import { CommandIDs, addCommands } from './commands';
import { Action, RequestParams } from './guards';
import { KernelLink } from './link';
import { PanelModel } from './model';
import { CnnLivePanel } from './panel';
import { FALLBACK_SETTINGS, PLUGIN_ID, PanelSettings, readSettings } from './settings';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><rect x="3" y="3" width="7" height="7" rx="1"/><rect x="14" y="3" width="7" height="7" rx="1" opacity="0.7"/><rect x="3" y="14" width="7" height="7" rx="1" opacity="0.7"/><path d="M14 20l2.5-4 2 2.5L21 14v7h-7z"/></g></svg>`;

export const cnnliveIcon = new LabIcon({ name: 'cnnlive:panel', svgstr: ICON_SVG });
export { CommandIDs };

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'CNN Live: background training, OIP and dream jobs with Stop and Cancel.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILauncher, ILayoutRestorer, ISettingRegistry, ITranslator, ILabShell],
  activate: async (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    restorer: ILayoutRestorer | null,
    registry: ISettingRegistry | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('cnnlive');
    let settings: PanelSettings = FALLBACK_SETTINGS;
    const model = new PanelModel(trans);
    let link: KernelLink | null = null;
    /** Send a request; its id, or null when not sent (not connected). */
    const request = (action: Action, jobId?: number, params?: RequestParams): string | null => {
      if (link) {
        return link.request(action, jobId, params);
      }
      model.setNotice(trans.__('Not connected.'));
      return null;
    };
    /** A read-only request that may not be valid (e.g. a hand-edited name): say
     *  why; whether it was sent. */
    const query = (action: Action, jobId?: number, params?: RequestParams): boolean => {
      try {
        return request(action, jobId, params) !== null;
      } catch (err) {
        model.setNotice(trans.__('Error: %1', (err as Error).message));
        return false;
      }
    };
    const listRuns = () => void query('runs');
    const run = (command: string) => (jobId: number) => void app.commands.execute(command, { jobId });
    const panel = new CnnLivePanel(
      model,
      trans,
      {
        stop: run(CommandIDs.stopJob),
        cancel: run(CommandIDs.cancelJob),
        remove: run(CommandIDs.removeJob),
        pause: run(CommandIDs.pauseJob),
        resume: run(CommandIDs.resumeJob),
        adjust: (jobId: number, params: RequestParams) => request('adjust', jobId, params),
        stopAfterEpoch: run(CommandIDs.stopAfterEpoch),
        frame: (jobId: number, index: number | null) =>
          index === null
            ? model.followNewest(jobId)
            : model.requestFrame(jobId, index, i => query('frame', jobId, { index: i }))
      },
      settings,
      {
        list: listRuns,
        compare: (folders: string[]) => void query('compare', undefined, { runs: folders as [string, ...string[]] })
      }
    );
    model.runsWanted.connect(() => listRuns());
    panel.title.icon = cnnliveIcon;
    app.shell.add(panel, 'right', { rank: 600 });
    restorer?.add(panel, 'cnnlive-panel');

    const openPanel = () => app.shell.activateById(panel.id);
    /** Show the panel without taking the keyboard from the notebook. */
    const revealPanel = () => {
      if (!settings.openOnLoad || panel.isVisible) {
        return;
      }
      const focused = document.activeElement as HTMLElement | null;
      openPanel();
      focused?.focus();
    };

    let followed: NotebookPanel | null = null;
    const useKernel = (kernel: Kernel.IKernelConnection | null | undefined) => {
      if (link && link.kernel === kernel) {
        return;
      }
      link?.dispose();
      link = null;
      if (!kernel) {
        model.setStatus(followed ? 'no-kernel' : 'no-notebook', '');
        return;
      }
      link = new KernelLink(kernel, model, trans, revealPanel);
    };
    const onKernelChanged = () => useKernel(followed?.sessionContext.session?.kernel);
    const follow = (nb: NotebookPanel | null) => {
      if (followed === nb) {
        return;
      }
      followed?.sessionContext.kernelChanged.disconnect(onKernelChanged);
      followed = nb;
      if (!nb) {
        useKernel(null);
        return;
      }
      nb.sessionContext.kernelChanged.connect(onKernelChanged);
      void nb.sessionContext.ready.then(() => {
        if (followed === nb) {
          onKernelChanged();
        }
      });
      onKernelChanged();
    };
    tracker.currentChanged.connect((_, nb) => follow(nb));
    follow(tracker.currentWidget);

    app.commands.addCommand(CommandIDs.open, {
      label: trans.__('Open CNN Live panel'),
      caption: trans.__('Show background training, OIP and dream jobs of the current kernel'),
      icon: cnnliveIcon,
      execute: () => {
        openPanel();
        void link?.open();
      }
    });
    addCommands({ app, model, trans, settings: () => settings, request });
    let states = '';
    model.changed.connect(() => {
      // commands' enabled state and labels follow the jobs' states
      const now = [...model.jobs.values()].map(j => `${j.id}:${j.state}`).join(',');
      if (now !== states) {
        states = now;
        app.commands.notifyCommandChanged();
      }
    });
    const category = trans.__('CNN Live');
    for (const command of [
      CommandIDs.open,
      CommandIDs.stopJob,
      CommandIDs.stopAfterEpoch,
      CommandIDs.cancelJob,
      CommandIDs.pauseJob,
      CommandIDs.resumeJob,
      CommandIDs.stopAll,
      CommandIDs.removeFinished
    ]) {
      palette?.addItem({ command, category });
    }
    launcher?.add({ command: CommandIDs.open, category: 'Other', rank: 50 });

    if (registry) {
      try {
        const loaded = await registry.load(PLUGIN_ID);
        const apply = () => {
          settings = readSettings(loaded.composite as Record<string, unknown>);
          panel.settings = settings;
        };
        apply();
        loaded.changed.connect(apply);
      } catch (err) {
        console.warn('cnnlive: settings not loaded, using defaults', err);
      }
    }
  }
};

export default plugin;
