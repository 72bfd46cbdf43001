import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, for tests that check with WeakRefs that the pipeline let go of
 * something. `gc` is only exposed by a flag; set at run time, it appears in contexts made
 * afterwards, so a new one hands it over.
 */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
