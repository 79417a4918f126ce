import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { RequestValidationException } from '../../common/common.errors';
import { toTodoChanges, UpdateTodoDto } from './update-todo.dto';

/** What the app's global ValidationPipe does: transform, then validate with a whitelist. */
function validate<T extends object>(type: new () => T, plain: object) {
  const instance = plainToInstance(type, plain);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  return { instance, fields: errors.map((error: ValidationError) => error.property) };
}

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
