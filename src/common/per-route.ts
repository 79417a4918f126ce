import { ExecutionContext } from '@nestjs/common';

/**
 * Something a guard derives from a route's metadata, computed on the route's first request and
 * kept, so that requests do not repeat the reflector's look-ups. Keyed by controller class and
 * handler together: a subclass may reuse its parent's handler function under other class-level
 * metadata (a @Public() subclass of a protected controller), and the two must not share a value.
 */
export class PerRoute<T> {
  private readonly byClass = new WeakMap<object, WeakMap<object, T>>();

  constructor(private readonly compute: (context: ExecutionContext) => T) {}

  get(context: ExecutionContext): T {
    const owner = context.getClass();
    const handler = context.getHandler();
    let byHandler = this.byClass.get(owner);
    if (byHandler === undefined) {
      byHandler = new WeakMap();
      this.byClass.set(owner, byHandler);
    }
    let value = byHandler.get(handler);
    if (value === undefined) {
      value = this.compute(context);
      byHandler.set(handler, value);
    }
    return value;
  }
}
