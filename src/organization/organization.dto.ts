import { ApiProperty } from '@nestjs/swagger';

export class OrganizationDto {
  @ApiProperty({
    example: 'Xq3mTzv8pK1wLc9RbN2yHd5sFa7uGe4j',
    description: 'The active organization.',
  })
  id!: string;

  @ApiProperty({
    type: [String],
    example: ['admin'],
    description: "The caller's roles in it (Better Auth member roles).",
  })
  roles!: string[];
}
