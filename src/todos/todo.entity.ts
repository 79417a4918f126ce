import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  VersionColumn,
} from 'typeorm';
import { DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH } from './todo.limits';

/**
 * Serves the list query (`WHERE user_id = $1 ORDER BY created_at DESC, id DESC`) without a sort.
 * TypeORM cannot describe a descending index column, so the migration creates it and schema
 * diffs leave it alone (`synchronize: false`); test/schema.e2e-spec.ts checks that it exists.
 */
export const TODOS_LIST_INDEX = 'IDX_todos_user_id_created_at_id';

@Entity({ name: 'todos' })
@Index(TODOS_LIST_INDEX, { synchronize: false })
@Check('CHK_todos_title_length', `char_length("title") BETWEEN 1 AND ${TITLE_MAX_LENGTH}`)
@Check(
  'CHK_todos_description_length',
  `"description" IS NULL OR char_length("description") <= ${DESCRIPTION_MAX_LENGTH}`,
)
export class Todo {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_todos' })
  id!: string;

  /** Better Auth's user id (the token's `sub`): an opaque string, not a UUID. */
  @Column({ name: 'user_id', type: 'text' })
  userId!: string;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'boolean', default: false })
  completed!: boolean;

  /** Bumped by every update; the ETag, so If-Match compares versions atomically in SQL. */
  @VersionColumn({ type: 'integer', default: 1 })
  version!: number;

  // Millisecond precision, like a JS Date: a value read back compares exactly in the keyset
  // cursor (PostgreSQL's default microseconds would be truncated on the way through JS).
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
