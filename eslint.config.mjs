import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { createNodeResolver, importX } from "eslint-plugin-import-x";

// The layers (README, "Layout"): each may import only the layers below it.
//   functions/  runs inside a deployed function (and locally): imports nothing above it
//   components/ infrastructure: imports functions/ for the workflow and the runtime contracts
//   policy/     the policy pack: imports nothing of the program it checks
//   local/, bench/, index.ts: tools and entry points on top
const layers = [
  { target: "./functions", from: ["./components", "./local", "./bench", "./policy", "./tests", "./index.ts"], message: "Deployed code must not import infrastructure, dev tools or tests." },
  { target: "./components", from: ["./local", "./bench", "./policy", "./tests", "./index.ts"], message: "Infrastructure imports only functions/ (workflow, contracts) and itself." },
  { target: "./policy", from: ["./components", "./functions", "./local", "./bench", "./tests", "./index.ts"], message: "The policy pack does not trust the program it checks: no imports from it." },
  { target: "./local", from: ["./bench", "./tests", "./index.ts"], message: "The local runtime does not import benchmarks, tests or the Pulumi entry point." },
  { target: "./bench", from: ["./tests"], message: "Benchmarks do not import tests; shared helpers live in local/." },
];

export default tseslint.config(
  { ignores: ["node_modules/", ".build/", "out/", ".local-runs/", ".stryker-tmp*/", "reports/", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    settings: { "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".d.ts", ".js", ".json"] })] },
    rules: {
      // No import cycles (type-only imports excluded: they vanish at run time).
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-restricted-paths": ["error", { zones: layers }],
    },
  },
);
