#!/usr/bin/env node
// The `whirl` command: a thin launcher for the compiled CLI (run `npm run build` after changing src/).
import '../dist/cli/main.js';
