// @ts-check
import base from "./stryker.config.mjs";

/**
 * `npm run mutate:unchecked`: the same run without the TypeScript checker, which on the
 * 2-core build machine takes most of the time. A mutant that does not compile is then run
 * anyway (tsx strips types) and counts as killed when a test fails.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default { ...base, checkers: [], tempDirName: ".stryker-tmp-unchecked" };
