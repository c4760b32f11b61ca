import { runCleanupPost } from '../db-backup/post-step.js';
void runCleanupPost();
