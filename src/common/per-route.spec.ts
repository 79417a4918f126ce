import { ExecutionContext } from '@nestjs/common';
import { PerRoute } from './per-route';

class Parent {
  handler(): void {}
}
class Child extends Parent {}

function contextOf(owner: object, handler: object): ExecutionContext {
  return { getClass: () => owner, getHandler: () => handler } as unknown as ExecutionContext;
}

describe('PerRoute', () => {
  it('computes once per route and returns the kept value afterwards', () => {
    const compute = jest.fn(() => 'value');
    const perRoute = new PerRoute(compute);
    const context = contextOf(Parent, Parent.prototype.handler);

    expect(perRoute.get(context)).toBe('value');
    expect(perRoute.get(context)).toBe('value');
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('keeps apart a handler shared by a class and its subclass', () => {
    const perRoute = new PerRoute((context) => (context.getClass() === Child ? 'child' : 'parent'));

    expect(perRoute.get(contextOf(Child, Parent.prototype.handler))).toBe('child');
    expect(perRoute.get(contextOf(Parent, Parent.prototype.handler))).toBe('parent');
  });
});
