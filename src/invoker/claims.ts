/**
 * Start claims: how an invoker tells whether redelivered work may already have run. Before an activation's
 * code starts (init or run), the invoker durably claims its id. A message delivered again after its invoker
 * died is run only if nobody claimed it (it was still waiting) — otherwise it may have had effects, and it
 * ends with a whisk internal error unless the action is annotated `retry-safe`.
 */
export type ClaimResult = { claimed: true } | { claimed: false; owner: string };

export interface StartClaims {
  /** Claims `activationId` for `owner`; `claimed: false` names whoever claimed it first. */
  claim(activationId: string, owner: string): Promise<ClaimResult>;
  /** Takes a claim over (a retry-safe activation is run again). */
  reclaim(activationId: string, owner: string): Promise<void>;
}
