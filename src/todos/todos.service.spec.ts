import { Test } from '@nestjs/testing';
import { TodoRecord } from './todo.record';
import { AppConfigService } from '../config/app-config.service';
import {
  TodoLimitReachedException,
  TodoNotFoundException,
  TodoVersionMismatchException,
} from './todos.errors';
import { TodosRepository } from './todos.repository';
import { TodosService } from './todos.service';

const OWNER = 'owner-32-characters-better-auth-id';
const LIMIT = 25;
const ID = '0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20';

function todo(id = ID): TodoRecord {
  return {
    id,
    userId: OWNER,
    title: 'Buy milk',
    description: null,
    completed: false,
    version: 1,
    createdAt: '2026-01-31T09:30:00.000Z',
    updatedAt: '2026-01-31T09:30:00.000Z',
  };
}

type RepositoryStub = jest.Mocked<
  Pick<TodosRepository, 'list' | 'insertWithinLimit' | 'findById' | 'exists' | 'update' | 'delete'>
>;

/** The service over a stand-in for TodosRepository, provided under the repository's token. */
async function serviceWith(answers: Partial<RepositoryStub> = {}) {
  const repository: RepositoryStub = {
    list: jest.fn().mockResolvedValue([]),
    insertWithinLimit: jest.fn().mockResolvedValue(todo()),
    findById: jest.fn().mockResolvedValue(undefined),
    exists: jest.fn().mockResolvedValue(false),
    update: jest.fn().mockResolvedValue(undefined),
    delete: jest.fn().mockResolvedValue(false),
    ...answers,
  };
  const module = await Test.createTestingModule({
    providers: [
      TodosService,
      { provide: TodosRepository, useValue: repository },
      { provide: AppConfigService, useValue: { todos: { maxPerUser: LIMIT } } },
    ],
  }).compile();
  return { service: module.get(TodosService), repository };
}

describe('TodosService', () => {
  it('returns the todo the repository found for the caller', async () => {
    const found = todo();
    const { service, repository } = await serviceWith({
      findById: jest.fn().mockResolvedValue(found),
    });
    await expect(service.findOne(OWNER, ID)).resolves.toBe(found);
    expect(repository.findById).toHaveBeenCalledWith(OWNER, ID);
  });

  it('is not found when no row of the caller has the id', async () => {
    const { service } = await serviceWith();
    await expect(service.findOne(OWNER, ID)).rejects.toBeInstanceOf(TodoNotFoundException);
  });

  it('creates the todo for the caller', async () => {
    const { service, repository } = await serviceWith();
    await service.create(OWNER, { title: 'x' });
    expect(repository.insertWithinLimit).toHaveBeenCalledWith(OWNER, LIMIT, { title: 'x' });
  });

  it('refuses a create the repository did not make at the limit with a 409 naming it', async () => {
    const { service } = await serviceWith({
      insertWithinLimit: jest.fn().mockResolvedValue(undefined),
    });
    const refusal = service.create(OWNER, { title: 'x' });
    await expect(refusal).rejects.toBeInstanceOf(TodoLimitReachedException);
    await expect(refusal).rejects.toMatchObject({
      message: `You have reached the limit of ${LIMIT} todos; delete some before creating more.`,
    });
    expect(
      ((await refusal.catch((error: unknown) => error)) as TodoLimitReachedException).getStatus(),
    ).toBe(409);
  });

  it('hands If-Match versions to the write itself, so the check and the write are one statement', async () => {
    const updated = todo();
    const { service, repository } = await serviceWith({
      update: jest.fn().mockResolvedValue(updated),
    });
    await expect(
      service.update(OWNER, ID, { completed: true }, { kind: 'versions', versions: [3, 4] }),
    ).resolves.toBe(updated);
    expect(repository.update).toHaveBeenCalledWith(OWNER, ID, { completed: true }, [3, 4]);
    expect(repository.exists).not.toHaveBeenCalled();
  });

  it('writes unconditionally without If-Match and with If-Match: *', async () => {
    const { service, repository } = await serviceWith({
      update: jest.fn().mockResolvedValue(todo()),
      delete: jest.fn().mockResolvedValue(true),
    });
    await service.update(OWNER, ID, { title: 'x' });
    await service.update(OWNER, ID, { title: 'x' }, { kind: 'any' });
    await service.remove(OWNER, ID, { kind: 'any' });
    expect(repository.update.mock.calls.map((call) => call[3])).toEqual([undefined, undefined]);
    expect(repository.delete).toHaveBeenCalledWith(OWNER, ID, undefined);
  });

  it.each([
    ['update', (s: TodosService) => s.update(OWNER, ID, { title: 'x' }, versions([1]))],
    ['remove', (s: TodosService) => s.remove(OWNER, ID, versions([1]))],
  ])(
    "%s answers 412 when the caller's todo exists at another version, 404 when it does not",
    async (_, call) => {
      const stale = await serviceWith({ exists: jest.fn().mockResolvedValue(true) });
      await expect(call(stale.service)).rejects.toBeInstanceOf(TodoVersionMismatchException);
      expect(stale.repository.exists).toHaveBeenCalledWith(OWNER, ID);

      const missing = await serviceWith({ exists: jest.fn().mockResolvedValue(false) });
      await expect(call(missing.service)).rejects.toBeInstanceOf(TodoNotFoundException);
    },
  );

  it('writes nothing when If-Match names no version this API could have issued', async () => {
    const { service, repository } = await serviceWith({
      exists: jest.fn().mockResolvedValue(true),
    });
    await expect(service.update(OWNER, ID, { title: 'x' }, versions([]))).rejects.toBeInstanceOf(
      TodoVersionMismatchException,
    );
    await expect(service.remove(OWNER, ID, versions([]))).rejects.toBeInstanceOf(
      TodoVersionMismatchException,
    );
    expect(repository.update).not.toHaveBeenCalled();
    expect(repository.delete).not.toHaveBeenCalled();
  });

  it('reads one row more than the page to know whether another page follows', async () => {
    const rows = [1, 2, 3].map((n) => todo(`${ID.slice(0, -1)}${n}`));
    const { service, repository } = await serviceWith({ list: jest.fn().mockResolvedValue(rows) });
    const after = { createdAt: new Date(), id: ID };
    const page = await service.list(OWNER, { limit: 2, completed: true, after });
    expect(repository.list).toHaveBeenCalledWith(OWNER, { limit: 3, completed: true, after });
    expect(page.todos.map((t) => t.id)).toEqual([rows[0].id, rows[1].id]);
    expect(page.next).toEqual({ createdAt: new Date(rows[1].createdAt), id: rows[1].id });
  });

  it('has no next page when the extra row is not there', async () => {
    const rows = [todo()];
    const { service } = await serviceWith({ list: jest.fn().mockResolvedValue(rows) });
    await expect(service.list(OWNER, { limit: 1 })).resolves.toEqual({ todos: rows, next: null });
  });
});

function versions(list: number[]) {
  return { kind: 'versions' as const, versions: list };
}
