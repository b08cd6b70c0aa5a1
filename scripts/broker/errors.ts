// The one error type the broker's HTTP layer turns into a 4xx answer `{ "error": message }`.
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
