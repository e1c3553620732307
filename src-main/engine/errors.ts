/** An error caused by the user's input (a bad file, an impossible model): its message is shown as is. */
export class ConvscopeError extends Error {
  readonly userFacing = true;
  constructor(
    message: string,
    readonly code: string = 'invalid-input',
  ) {
    super(message);
    this.name = 'ConvscopeError';
  }
}
