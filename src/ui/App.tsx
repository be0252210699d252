import { Viewer } from './viewer/Viewer';
import { OpenButton } from './panels/OpenButton';
import { SlideList } from './panels/SlideList';
import { SlideInfo } from './panels/SlideInfo';
import { ChannelControls } from './panels/ChannelControls';
import { JobsPanel } from './panels/JobsPanel';
import { Alerts } from './panels/Alerts';
import { DropZone } from './panels/DropZone';
import { StatusBar } from './panels/StatusBar';
import { CishPanel } from './cish/CishPanel';
import { NucleiPanel } from './nuclei/NucleiPanel';
import { ClassifierPanel } from './classifier/ClassifierPanel';

/** Layout: header, a left panel of slide tools, the viewer filling the rest, a status bar. */
export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1 className="brand">Tilescope</h1>
        <OpenButton />
        <span className="muted header-note">Slides open locally; nothing is uploaded.</span>
      </header>
      <div className="app-body">
        <aside className="side-panel" aria-label="Slide tools">
          <SlideList />
          <SlideInfo />
          <ChannelControls />
          <JobsPanel />
          <CishPanel />
          <NucleiPanel />
          <ClassifierPanel />
        </aside>
        <main className="viewer-area">
          <Viewer />
        </main>
      </div>
      <StatusBar />
      <Alerts />
      <DropZone />
    </div>
  );
}
