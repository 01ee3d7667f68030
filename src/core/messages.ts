/**
 * What controllers and invokers say to each other over the MessageBus.
 */
import type { ActivationRecord } from './activation.js';
import type { ActionDoc, KeyValue } from './entities.js';

/** Work for an invoker: run one activation of one action. */
export interface ActivationMessage {
  activationId: string;
  transactionId: string;
  /** Who invoked: the activation belongs to this namespace. */
  user: {
    namespace: string;
    subject: string;
    /** `uuid:key`, present only when the action may see the caller's key (`provide-api-key`). */
    apiKey?: string;
  };
  /** Where the action lives (`ns` or `ns/pkg`) and its revision in the store. */
  actionPath: string;
  rev: number;
  action: ActionDoc;
  /** Arguments after merging package < binding < action < payload. */
  args: unknown;
  /** Extra annotations for the record (`binding`, `causedBy`, ...). */
  annotations?: KeyValue[];
  cause?: string;
  /** Controller time when the request arrived (for `waitTime`). */
  receivedAt: number;
  /** Topic on which the completion goes back. */
  replyTo: string;
  /** False when the namespace does not store activations. */
  store: boolean;
}

/** An invoker's answer once the activation has ended (successfully or not). */
export interface CompletionMessage {
  activationId: string;
  record: ActivationRecord;
  invoker: string;
}
