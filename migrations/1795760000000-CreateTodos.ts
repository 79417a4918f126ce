import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The todos table. Generated from src/todos/todo.entity.ts, then completed by hand with the
 * index TypeORM cannot describe: (user_id, created_at DESC, id DESC) matches the list query's
 * WHERE and ORDER BY exactly, so a page is one index range scan with no sort, and the keyset
 * condition (created_at, id) < (…) starts the scan where the previous page ended.
 */
export class CreateTodos1795760000000 implements MigrationInterface {
  name = 'CreateTodos1795760000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "todos" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" text NOT NULL,
        "title" text NOT NULL,
        "description" text,
        "completed" boolean NOT NULL DEFAULT false,
        "version" integer NOT NULL DEFAULT 1,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_todos_title_length" CHECK (char_length("title") BETWEEN 1 AND 200),
        CONSTRAINT "CHK_todos_description_length" CHECK (
          "description" IS NULL OR char_length("description") <= 2000
        ),
        CONSTRAINT "PK_todos" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_todos_user_id_created_at_id" ON "todos" ("user_id", "created_at" DESC, "id" DESC)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "todos"`);
  }
}
