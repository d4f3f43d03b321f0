import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ClientIp, Public } from '../../common/access.js';
import { LoginDto, LoginResponseDto } from './auth.dto.js';
import { AuthService } from './auth.service.js';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiUnauthorizedResponse({ description: 'Email or password is wrong' })
  @ApiTooManyRequestsResponse({ description: 'Account locked after repeated failures' })
  login(@Body() dto: LoginDto, @ClientIp() ip: string | null): Promise<LoginResponseDto> {
    return this.auth.login(dto.email, dto.password, ip);
  }
}
