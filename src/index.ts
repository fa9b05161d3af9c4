// JupyterLab plugin: the "CNN Live" side panel that follows the current
// notebook's kernel.
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { KernelLink } from './link';
import { PanelModel } from './model';
import { CnnLivePanel } from './panel';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><rect x="3" y="3" width="7" height="7" rx="1"/><rect x="14" y="3" width="7" height="7" rx="1" opacity="0.7"/><rect x="3" y="14" width="7" height="7" rx="1" opacity="0.7"/><path d="M14 20l2.5-4 2 2.5L21 14v7h-7z"/></g></svg>`;

export const cnnliveIcon = new LabIcon({ name: 'cnnlive:panel', svgstr: ICON_SVG });
const OPEN = 'cnnlive:open-panel';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'cnnlive:plugin',
  description: 'CNN Live: background training, OIP and dream jobs with Stop and Cancel.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILauncher, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    launcher: ILauncher | null
  ) => {
    const model = new PanelModel();
    let link: KernelLink | null = null;
    const panel = new CnnLivePanel(model, (action, jobId) => link?.request(action, jobId));
    panel.title.icon = cnnliveIcon;
    app.shell.add(panel, 'right', { rank: 600 });

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
      link = new KernelLink(kernel, model);
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

    app.commands.addCommand(OPEN, {
      label: 'Open CNN Live panel',
      caption: 'Show background training, OIP and dream jobs of the current kernel',
      icon: cnnliveIcon,
      execute: () => {
        app.shell.activateById(panel.id);
        void link?.open();
      }
    });
    palette?.addItem({ command: OPEN, category: 'CNN Live' });
    launcher?.add({ command: OPEN, category: 'Other', rank: 50 });
  }
};

export default plugin;
