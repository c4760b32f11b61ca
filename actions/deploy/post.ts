import { runPostStep } from './post-step.js';
void runPostStep();
