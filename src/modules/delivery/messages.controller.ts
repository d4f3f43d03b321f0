import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ClientIp, CurrentStaff, Roles, StaffPrincipal } from '../../common/access.js';
import { MessageListQueryDto, ResolveMessageDto } from './messages.dto.js';
import { MessagesService } from './messages.service.js';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('api/messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  /** Messages that need a person (`status=unknown`), oldest first. */
  @Get()
  @Roles('admin', 'supervisor')
  list(@Query() q: MessageListQueryDto) {
    return this.messages.list(q);
  }

  /** Settles an unknown message: sent after all, or not sent (it goes again). Audited. */
  @Post(':id/resolve')
  @HttpCode(200)
  @Roles('admin', 'supervisor')
  resolve(@Param('id') id: string, @Body() dto: ResolveMessageDto, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.messages.resolve(id, dto, staff, ip);
  }
}
