import { fieldErrors, type Problem, type Todo, type TodoApiClient } from '@todo-api/client';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { formText } from './form-text';

const PAGE_SIZE = 5;

/** Messages by field; a problem without field errors shows its detail under `form`. */
function errorsOf(problem: Problem | undefined): Record<string, string> {
  if (!problem) return {};
  const byField = Object.fromEntries(
    Object.entries(fieldErrors(problem)).map(([field, messages]) => [field, messages.join('; ')]),
  );
  return Object.keys(byField).length > 0 ? byField : { form: problem.detail };
}

function FieldError({ message, id }: { message?: string; id: string }) {
  return message ? (
    <span className="field-error" id={id} role="alert">
      {message}
    </span>
  ) : null;
}

interface Props {
  api: TodoApiClient;
  onNotice: (message: string | undefined) => void;
}

export function Todos({ api, onNotice }: Props) {
  const [todos, setTodos] = useState<Todo[]>([]);
  // The cursor of each page shown so far: [undefined] is the first page.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [createErrors, setCreateErrors] = useState<Record<string, string>>({});
  const [editing, setEditing] = useState<{ id: string; etag: string; title: string }>();
  const [editErrors, setEditErrors] = useState<Record<string, string>>({});
  const cursor = cursors[cursors.length - 1];

  const load = useCallback(async () => {
    const { data, error } = await api.GET('/api/todos', {
      params: { query: { limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) } },
    });
    if (error) return onNotice(error.detail);
    setTodos(data.todos);
    setNextCursor(data.nextCursor);
  }, [api, cursor, onNotice]);

  useEffect(() => {
    void load();
  }, [load]);

  const reloadFirstPage = () => {
    if (cursors.length === 1) void load();
    else setCursors([undefined]);
  };

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const description = formText(form, 'description');
    const { error } = await api.POST('/api/todos', {
      body: { title: formText(form, 'title'), description: description || null },
    });
    setCreateErrors(errorsOf(error));
    if (error) return;
    formElement.reset();
    onNotice(undefined);
    reloadFirstPage();
  };

  const toggle = async (todo: Todo) => {
    const { error } = await api.PATCH('/api/todos/{id}', {
      params: { path: { id: todo.id } },
      body: { completed: !todo.completed },
    });
    if (error) onNotice(error.detail);
    await load();
  };

  const remove = async (todo: Todo) => {
    const { error } = await api.DELETE('/api/todos/{id}', { params: { path: { id: todo.id } } });
    if (error) onNotice(error.detail);
    await load();
  };

  /** Reads the todo's current version, so saving can tell whether someone changed it since. */
  const startEditing = async (todo: Todo) => {
    const { data, error, response } = await api.GET('/api/todos/{id}', {
      params: { path: { id: todo.id } },
    });
    if (error) return onNotice(error.detail);
    setEditErrors({});
    setEditing({ id: data.id, etag: response.headers.get('etag') ?? '*', title: data.title });
  };

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!editing) return;
    const title = formText(new FormData(event.currentTarget), 'title');
    const { error, response } = await api.PATCH('/api/todos/{id}', {
      params: { path: { id: editing.id }, header: { 'If-Match': editing.etag } },
      body: { title },
    });
    if (response.status === 412) {
      setEditing(undefined);
      onNotice('This todo was changed elsewhere; the list has been reloaded. Please try again.');
      await load();
      return;
    }
    setEditErrors(errorsOf(error));
    if (error) return;
    setEditing(undefined);
    await load();
  };

  return (
    <section>
      <form onSubmit={(event) => void create(event)} aria-label="New todo" noValidate>
        <div className="field">
          <label htmlFor="new-title">Title</label>
          <input
            id="new-title"
            type="text"
            name="title"
            aria-invalid={Boolean(createErrors.title)}
            aria-describedby="title-error"
          />
          <FieldError id="title-error" message={createErrors.title} />
        </div>
        <div className="field">
          <label htmlFor="new-description">Description (optional)</label>
          <input
            id="new-description"
            type="text"
            name="description"
            aria-invalid={Boolean(createErrors.description)}
            aria-describedby="description-error"
          />
          <FieldError id="description-error" message={createErrors.description} />
        </div>
        <FieldError id="create-error" message={createErrors.form} />
        <button type="submit">Add</button>
      </form>

      <ul className="todos" aria-label="Your todos">
        {todos.map((todo) => (
          <li key={todo.id} className={todo.completed ? 'done' : undefined}>
            <input
              type="checkbox"
              checked={todo.completed}
              aria-label={`Complete ${todo.title}`}
              onChange={() => void toggle(todo)}
            />
            {editing?.id === todo.id ? (
              <form onSubmit={(event) => void save(event)} aria-label="Edit todo" noValidate>
                <input
                  type="text"
                  name="title"
                  defaultValue={editing.title}
                  aria-label="New title"
                  aria-describedby="edit-title-error"
                />
                <FieldError id="edit-title-error" message={editErrors.title ?? editErrors.form} />
                <button type="submit">Save</button>
                <button type="button" onClick={() => setEditing(undefined)}>
                  Cancel
                </button>
              </form>
            ) : (
              <>
                <span className="title">{todo.title}</span>
                <button onClick={() => void startEditing(todo)}>Edit</button>
                <button onClick={() => void remove(todo)}>Delete</button>
              </>
            )}
          </li>
        ))}
      </ul>
      {todos.length === 0 && <p>Nothing to do.</p>}

      <nav className="pager" aria-label="Pages">
        <button disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button
          disabled={nextCursor === null}
          onClick={() => nextCursor && setCursors([...cursors, nextCursor])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
