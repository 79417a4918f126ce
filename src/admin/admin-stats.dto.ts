import { ApiProperty } from '@nestjs/swagger';

/** Counts only: nothing here identifies a user or shows what they wrote. */
export class AdminStatsDto {
  @ApiProperty({ example: 42, description: 'Users who have at least one todo.' })
  usersWithTodos!: number;

  @ApiProperty({ example: 1337, description: 'Todos of all users.' })
  todos!: number;

  @ApiProperty({ example: 17, description: 'Todos created in the last 24 hours.' })
  todosCreatedLast24h!: number;
}
