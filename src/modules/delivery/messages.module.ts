import { Module } from '@nestjs/common';
import { MessagesRepository } from './messages.repository.js';

/** The one owner of the `messages` table, for every module that moves a message. */
@Module({ providers: [MessagesRepository], exports: [MessagesRepository] })
export class MessagesModule {}
