import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { MessagesModule } from '../delivery/messages.module.js';
import { SuppressionsModule } from '../suppressions/suppressions.module.js';
import { AssetsController } from './pages/assets.controller.js';
import { PageRenderer } from './pages/page-renderer.js';
import { pageSecurity } from './pages/page-security.js';
import { UnsubscribeController } from './unsubscribe.controller.js';
import { UnsubscribeService } from './unsubscribe.service.js';

/**
 * What victims send us: email unsubscribe now; inbound SMS replies and the /report form
 * next, on the same page renderer and security headers.
 */
@Module({ imports: [SuppressionsModule, MessagesModule], providers: [UnsubscribeService, PageRenderer], exports: [UnsubscribeService, PageRenderer] })
export class ResponsesModule {}

@Module({ imports: [ResponsesModule], controllers: [UnsubscribeController, AssetsController] })
export class ResponsesApiModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Every public page controller goes in this list, so each gets the CSP.
    consumer.apply(pageSecurity()).forRoutes(UnsubscribeController, AssetsController);
  }
}
