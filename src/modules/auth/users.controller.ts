import { isUuid } from '../../common/input-rules.js';
import { BadRequestException, Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ClientIp, CurrentStaff, Roles, StaffPrincipal } from '../../common/access.js';
import { PageQueryDto } from '../../common/paging.js';
import { StaffUserDto, StaffUserPageDto, UpdateUserDto } from './users.dto.js';
import { UsersService } from './users.service.js';


@ApiTags('users')
@ApiBearerAuth()
@Controller('api/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Roles('admin')
  @ApiOkResponse({ type: StaffUserPageDto })
  list(@Query() q: PageQueryDto) {
    return this.users.list(q.cursor, q.limit ?? 50);
  }

  /** Disables, enables or re-roles a user; their tokens end at once. Admin only; audited. */
  @Patch(':id')
  @Roles('admin')
  @ApiOkResponse({ type: StaffUserDto })
  @ApiNotFoundResponse({ description: 'No user has this id' })
  @ApiConflictResponse({ description: 'The last active admin, or your own account' })
  update(@Param('id') id: string, @Body() dto: UpdateUserDto, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    if (!isUuid(id)) throw new BadRequestException('id must be a UUID, such as 3f2b8c1e-0d4a-4e1b-9c7a-2b5d6e7f8a90');
    if (dto.role === undefined && dto.disabled === undefined) throw new BadRequestException('Send role, disabled or both');
    return this.users.update(id, { role: dto.role, disabled: dto.disabled }, { type: 'staff', id: staff.userId, ip });
  }
}
