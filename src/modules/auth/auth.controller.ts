import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ALL_STAFF, ClientIp, CurrentStaff, Public, Roles, StaffPrincipal } from '../../common/access.js';
import { LoginRateLimit } from '../../common/rate-limit.js';
import { LoginDto, LoginResponseDto } from './auth.dto.js';
import { AuthService } from './auth.service.js';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @Public()
  @LoginRateLimit()
  @HttpCode(200)
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiUnauthorizedResponse({ description: 'Email or password is wrong (the same answer for an unknown email or a disabled account)' })
  @ApiTooManyRequestsResponse({ description: 'Too many attempts; see Retry-After' })
  login(@Body() dto: LoginDto, @ClientIp() ip: string | null): Promise<LoginResponseDto> {
    return this.auth.login(dto.email, dto.password, ip);
  }

  /** Ends every token of the calling user, not only the one sent. */
  @Post('logout')
  @Roles(...ALL_STAFF)
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'Every token of this user has ended' })
  logout(@CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null): Promise<void> {
    return this.auth.logout(staff.userId, ip);
  }
}
