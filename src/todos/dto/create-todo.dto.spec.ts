import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { CreateTodoDto } from './create-todo.dto';

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
