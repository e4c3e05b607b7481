// ESLint (flat config) for the browser scripts: the chat widget and the agents' console.
// Neither has a build step. The widget is a classic <script>; the console is ES modules
// (handoff/static/console/, entry main.js), and so is the editors' studio
// (handoff/static/studio/), linted as modules. All get browser globals.
// `make lint` runs `eslint handoff/static`.
"use strict";

const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  js.configs.recommended,
  {
    files: ["handoff/static/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: {
      "no-unused-vars": "error",
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
    },
  },
  {
    files: ["handoff/static/console/**/*.js", "handoff/static/studio/**/*.js"],
    languageOptions: {
      sourceType: "module",
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { ...globals.node },
    },
  },
];
