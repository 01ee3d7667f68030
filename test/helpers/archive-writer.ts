// In-memory zip and tar.gz writers for test fixtures. The implementation lives in
// src/runtimes/testing/archive-writer.ts so that the shared runtime protocol cases (compiled with
// rootDir src/) can use it too; tests elsewhere import it from here.
export * from '../../src/runtimes/testing/archive-writer.js';
