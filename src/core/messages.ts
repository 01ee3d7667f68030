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
  /**
   * The action at `rev`. Over a network bus its code is left out (`codeInStore`): invokers fetch it from
   * the store once per revision and cache it, so 48 MB of code never travels with each activation. In
   * one process the whole document is passed by reference.
   */
  action: ActionDoc;
  codeInStore?: boolean;
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
  /** `api-only`: the sandbox reaches the Whirl API and nothing else (absent: the outside too). */
  network?: 'api-only';
}

/** An invoker's answer once the activation has ended (successfully or not). */
export interface CompletionMessage {
  activationId: string;
  /** The invoking namespace (owner of the record). */
  namespace: string;
  /** Absent when the record was too big for the bus: it is in the store already, read it there. */
  record?: ActivationRecord;
  invoker: string;
  /**
   * The activation was cut short by the death of another invoker (not this one's fault, so it does not
   * count against this invoker's health).
   */
  interrupted?: boolean;
}
