import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'Profile' })
export class ProfileDto {
  @ApiProperty({ example: 'x8Qm1cWvJ3kZbq0tY7rNf2LhA9sDpE6u', description: 'The token subject.' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, example: 'ada@example.com' })
  email!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' })
  name!: string | null;

  @ApiProperty({ type: Boolean, nullable: true, example: true })
  emailVerified!: boolean | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  image!: string | null;
}
