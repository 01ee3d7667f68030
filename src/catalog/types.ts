/** The shape of the system catalog: packages of Node.js actions written in this project. */
import type { KeyValue } from '../core/entities.js';

/** One documented parameter (shown by UIs through the `parameters` annotation, as OpenWhisk's catalog). */
export interface ParameterDoc {
  name: string;
  required: boolean;
  description: string;
}

export interface CatalogAction {
  name: string;
  description: string;
  /** Node.js source with a `main` function. */
  code: string;
  parameters?: ParameterDoc[];
  /** Extra annotations (`feed`, `provide-api-key`, ...). */
  annotations?: KeyValue[];
  /** Default parameters. */
  defaults?: KeyValue[];
}

export interface CatalogPackage {
  name: string;
  description: string;
  actions: CatalogAction[];
  parameters?: KeyValue[];
}
