// @ts-check
/**
 * Mutation testing (`npm run mutate`): plants small bugs in the image core, the ASL
 * renderer, the IAM builder and the policy pack, and counts how many the tests catch.
 * Slow (tens of minutes on 2 cores), so it is not part of `npm test`; the README's
 * Benchmarks section records the last score.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  mutate: [
    "functions/core/**/*.ts",
    "components/aws/asl.ts",
    "components/aws/iam.ts",
    "policy/**/*.ts",
    // Re-exports only.
    "!functions/core/index.ts",
    // Constructs the pack for the Pulumi CLI (which starts its gRPC server); tests import policy/policies.ts.
    "!policy/index.ts",
  ],
  testRunner: "mocha",
  mochaOptions: {
    // The tests of the mutated files only (the pack test's served half runs the pack in a child process, unmutated).
    spec: [
      "tests/functions/core/**/*.test.ts",
      "tests/components/aws/asl.test.ts",
      "tests/components/aws/iam.test.ts",
      "tests/policy/aws.test.ts",
      "tests/policy/azure.test.ts",
      "tests/policy/common.test.ts",
      "tests/policy/iam.test.ts",
      "tests/policy/policies.test.ts",
      "tests/policy/support.test.ts",
    ],
    config: ".mocharc.json",
  },
  checkers: ["typescript"],
  // Only what the mutated files and their tests import: the whole program (both clouds' provider SDKs) is ten times larger.
  tsconfigFile: "tsconfig.mutate.json",
  // Mutated sources in the sandbox are not type-checked by tsx; the TypeScript checker judges each mutant instead.
  disableTypeChecks: "{functions,components,policy}/**/*.ts",
  coverageAnalysis: "perTest",
  // Module-level constants (rule descriptions, type-token lists, tables) would each rerun every test:
  // four fifths of the run time. They are left out of the score; the tests still assert those values.
  ignoreStatic: true,
  // The build machine has 2 cores shared with other work.
  concurrency: 2,
  timeoutMS: 20000,
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
