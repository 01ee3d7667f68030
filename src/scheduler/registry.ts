/**
 * The invoker registry: every invoker that ever started in this deployment, with its capacity. Heartbeats
 * say who is alive; the registry says who exists, so that a controller started after an invoker died still
 * reports it (`down`) and its queued work is still taken over.
 */
export interface InvokerInfo {
  id: string;
  /** Memory for action containers, MB. */
  memoryMB: number;
  registeredAt: number;
}

export interface InvokerRegistry {
  register(info: InvokerInfo): Promise<void>;
  list(): Promise<InvokerInfo[]>;
}
