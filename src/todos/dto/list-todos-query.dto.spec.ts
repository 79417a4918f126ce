import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { ListTodosQueryDto } from './list-todos-query.dto';

/** What the app's global ValidationPipe does: transform, then validate with a whitelist. */
function validate<T extends object>(type: new () => T, plain: object) {
  const instance = plainToInstance(type, plain);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  return { instance, fields: errors.map((error: ValidationError) => error.property) };
}

describe('ListTodosQueryDto', () => {
  it('defaults limit to 20 and parses the query strings', () => {
    expect(validate(ListTodosQueryDto, {}).instance).toMatchObject({ limit: 20 });
    const { instance, fields } = validate(ListTodosQueryDto, { limit: '100', completed: 'false' });
    expect(fields).toEqual([]);
    expect(instance).toMatchObject({ limit: 100, completed: false });
  });

  it.each([['0'], ['-1'], ['101'], ['abc'], ['1.5'], [''], [' 5'], ['1e1'], [['1', '2']]])(
    'refuses limit=%p',
    (limit) => {
      expect(validate(ListTodosQueryDto, { limit }).fields).toEqual(['limit']);
    },
  );

  it.each([['yes'], ['1'], ['True'], ['']])('refuses completed=%p', (completed) => {
    expect(validate(ListTodosQueryDto, { completed }).fields).toEqual(['completed']);
  });

  it('refuses a cursor it did not issue', () => {
    expect(validate(ListTodosQueryDto, { cursor: 'abc' }).fields).toEqual(['cursor']);
  });
});
