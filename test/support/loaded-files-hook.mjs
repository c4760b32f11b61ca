// Preloaded with `node --import` by the cold-start test: appends the URL of every module file Node loads (the
// bundle's index.js and each ncc chunk it imports) to $LOADED_FILES_LOG, so the test can see what a run parsed.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const log = process.env.LOADED_FILES_LOG;
if (log) {
  registerHooks({
    load(url, context, nextLoad) {
      if (url.startsWith('file:')) appendFileSync(log, `${url}\n`);
      return nextLoad(url, context);
    },
  });
}
