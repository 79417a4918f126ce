import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { RequestValidationException } from '../../common/common.errors';
import { CreateTodoDto } from './create-todo.dto';
import { ListTodosQueryDto } from './list-todos-query.dto';
import { toTodoChanges, UpdateTodoDto } from './update-todo.dto';

/** What the app's global ValidationPipe does: transform, then validate with a whitelist. */
function validate<T extends object>(type: new () => T, plain: object) {
  const instance = plainToInstance(type, plain);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  return { instance, fields: errors.map((error: ValidationError) => error.property) };
}

describe('CreateTodoDto', () => {
  it('trims the title and keeps the rest as sent', () => {
    const { instance, fields } = validate(CreateTodoDto, {
      title: '  Buy milk \n',
      description: '  as is  ',
      completed: true,
    });
    expect(fields).toEqual([]);
    expect(instance).toMatchObject({
      title: 'Buy milk',
      description: '  as is  ',
      completed: true,
    });
  });

  it('refuses server-owned fields by name', () => {
    const { fields } = validate(CreateTodoDto, {
      title: 'ok',
      id: 'x',
      userId: 'x',
      createdAt: 'x',
      updatedAt: 'x',
    });
    expect(fields.sort()).toEqual(['createdAt', 'id', 'updatedAt', 'userId']);
  });

  it('accepts a null description but not a null completed', () => {
    expect(validate(CreateTodoDto, { title: 'ok', description: null }).fields).toEqual([]);
    expect(validate(CreateTodoDto, { title: 'ok', completed: null }).fields).toEqual(['completed']);
  });

  it('says a missing title is required', () => {
    const errors = validateSync(plainToInstance(CreateTodoDto, {}));
    expect(errors[0].constraints).toEqual({ isString: 'title is required' });
  });
});

describe('UpdateTodoDto and toTodoChanges', () => {
  it('validates only the fields sent, and refuses null for all but description', () => {
    expect(validate(UpdateTodoDto, { completed: true }).fields).toEqual([]);
    expect(validate(UpdateTodoDto, { description: null }).fields).toEqual([]);
    expect(validate(UpdateTodoDto, { title: null, completed: null }).fields).toEqual([
      'title',
      'completed',
    ]);
  });

  it('keeps exactly the fields that were sent', () => {
    const { instance } = validate(UpdateTodoDto, { title: ' New ', description: null });
    expect(toTodoChanges(instance)).toEqual({ title: 'New', description: null });
  });

  it('refuses a PATCH that changes nothing', () => {
    const { instance } = validate(UpdateTodoDto, {});
    expect(() => toTodoChanges(instance)).toThrow(RequestValidationException);
  });
});

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
