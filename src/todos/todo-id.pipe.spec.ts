import { RequestValidationException } from '../common/common.errors';
import { TodoIdPipe } from './todo-id.pipe';

describe('TodoIdPipe', () => {
  const pipe = new TodoIdPipe();

  it.each([
    '0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20',
    '0B9F4A53-2F6C-4C55-9A43-7D3E5F7C1A20',
    '00000000-0000-0000-0000-000000000000',
  ])('passes a UUID through unchanged (%s)', (id) => {
    expect(pipe.transform(id)).toBe(id);
  });

  it.each([
    '',
    'not-a-uuid',
    '0b9f4a532f6c4c559a437d3e5f7c1a20',
    '{0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20}',
    '0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20\n',
    ' 0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20',
    '0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a2g',
    `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(13)}`,
  ])('refuses %j with a 400 naming id', (id) => {
    let error: unknown;
    try {
      pipe.transform(id);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RequestValidationException);
    const problem = error as RequestValidationException;
    expect(problem.getStatus()).toBe(400);
    expect(problem.fieldErrors).toEqual([{ field: 'id', message: 'id must be a UUID' }]);
  });

  it('refuses a value that is not a string', () => {
    expect(() => pipe.transform(['0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20'])).toThrow(
      RequestValidationException,
    );
  });
});
