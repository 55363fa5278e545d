/**
 * The React example's view. Buttons call the promise API; everything shown is selected from the
 * manager's actor (see use-run-manager.ts), so a call started anywhere shows up here too.
 */
import type { RunManager } from 'run-lifecycle';
import { useRunManager } from './use-run-manager.js';

// The outcome is read from the actor's state; the promise only needs its rejection handled.
const ignore = () => undefined;

export function App({ rm }: { rm: RunManager }) {
  const { busy, run, error } = useRunManager(rm);
  return (
    <main className="app" data-busy={busy}>
      <h1>run-lifecycle in React</h1>
      <div className="buttons">
        <button id="get-run" disabled={busy} onClick={() => void rm.getRun().catch(ignore)}>
          getRun()
        </button>
        <button id="reset" disabled={busy} onClick={() => void rm.reset().catch(ignore)}>
          reset()
        </button>
        <span id="busy" className="busy" hidden={!busy}>
          working…
        </span>
      </div>
      <p>
        Run: <code id="run-id">{run ? run.id : 'none yet'}</code>
        {run && <span className="fresh">{run.freshlyCreated ? ' (created)' : ' (reused)'}</span>}
      </p>
      {error && (
        <p id="error" role="alert">
          {error.type}: {error.message}
        </p>
      )}
    </main>
  );
}
