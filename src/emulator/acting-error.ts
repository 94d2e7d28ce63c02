/** A control-API input error: answered 4xx with the reason (acting.ts, attachments.ts). */
export class ActingError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ActingError';
    this.status = status;
  }
}
