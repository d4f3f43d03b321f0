import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** The cursor and page size every cursor-paginated list takes. */
export class PageQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional() @Type(() => Number) @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be a whole number from 1 to 500' }) @Max(500, { message: 'limit must be a whole number from 1 to 500' })
  limit?: number;
}
