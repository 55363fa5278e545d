import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { rm } from './manager.js';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App rm={rm} />
  </StrictMode>,
);
