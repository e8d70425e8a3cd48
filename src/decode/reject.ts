/** Why a record, or one entry of it, was refused. `code` is stable and machine-readable. */
export interface Reject {
  readonly code: string;
  readonly reason: string;
}

export const reject = (code: string, reason: string): Reject => ({ code, reason });
