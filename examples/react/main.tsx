/**
 * run-lifecycle in React: the entry, mounting the app with the one module-level manager.
 *
 * Run it with `npm run example -- react` (a local Run API emulator, this app bundled, a URL printed).
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { rm } from './manager.js';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App rm={rm} />
  </StrictMode>,
);
