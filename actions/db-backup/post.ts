import { runCleanupPost } from './post-step.js';
void runCleanupPost();
