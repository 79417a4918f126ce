import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotModifiedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RouteSchema } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { Scopes } from '../auth/decorators/scopes.decorator';
import { CreateTodoDto } from './dto/create-todo.dto';
import { ListTodosQueryDto } from './dto/list-todos-query.dto';
import { TodoPageDto } from './dto/todo-page.dto';
import { TodoDto } from './dto/todo.dto';
import { toTodoChanges, UpdateTodoDto } from './dto/update-todo.dto';
import { decodeTodoCursor } from './todo-cursor';
import { formatEtag, ifNoneMatchMatches, parseIfMatch } from './todo-etag';
import { ApiTodoIdParam, TodoIdPipe } from './todo-id.pipe';
import { TodoRecord } from './todo.record';
import {
  ApiCreateTodoProblems,
  ApiDeleteTodoProblems,
  ApiGetTodoProblems,
  ApiIfMatch,
  ApiListTodosProblems,
  ApiUpdateTodoProblems,
  ETAG_RESPONSE_HEADER,
} from './todos.api-docs';
import { TODO_PAGE_RESPONSE, TODO_RESPONSE } from './todos.response-schemas';
import { TodosService } from './todos.service';

/**
 * The caller's todos. HTTP only: ownership, validation of state and SQL live in TodosService.
 * OAuth clients need `todos:read` to read and `todos:write` to change them.
 */
@ApiTags('todos')
@Controller('todos')
export class TodosController {
  constructor(private readonly todos: TodosService) {}

  @Get()
  @Scopes('todos:read')
  @RouteSchema(TODO_PAGE_RESPONSE)
  @ApiOperation({
    operationId: 'listTodos',
    summary: 'List your todos, newest first (keyset pagination).',
  })
  @ApiOkResponse({ type: TodoPageDto, description: 'One page of your todos.' })
  @ApiListTodosProblems()
  async list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: ListTodosQueryDto,
  ): Promise<TodoPageDto> {
    const page = await this.todos.list(user.id, {
      limit: query.limit,
      completed: query.completed,
      // Already validated by ListTodosQueryDto, so it decodes.
      after: query.cursor === undefined ? undefined : decodeTodoCursor(query.cursor),
    });
    return TodoPageDto.from(page);
  }

  @Post()
  @Scopes('todos:write')
  @RouteSchema(TODO_RESPONSE)
  @ApiOperation({ operationId: 'createTodo', summary: 'Create a todo.' })
  @ApiBody({ type: CreateTodoDto })
  @ApiCreatedResponse({
    type: TodoDto,
    description: 'The new todo.',
    headers: {
      Location: { description: 'The URL of the new todo.', schema: { type: 'string' } },
      ...ETAG_RESPONSE_HEADER,
    },
  })
  @ApiCreateTodoProblems()
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: CreateTodoDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TodoDto> {
    const todo = await this.todos.create(user.id, body);
    void reply.header('location', `${reply.request.routeOptions.url}/${todo.id}`);
    return this.withEtag(reply, todo);
  }

  @Get(':id')
  @ApiTodoIdParam()
  @Scopes('todos:read')
  @RouteSchema(TODO_RESPONSE)
  @ApiOperation({ operationId: 'getTodo', summary: 'Get one of your todos.' })
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'An ETag you hold: 304 with no body when it is still current.',
  })
  @ApiOkResponse({ type: TodoDto, headers: ETAG_RESPONSE_HEADER, description: 'The todo.' })
  @ApiNotModifiedResponse({ description: 'If-None-Match names the current version.' })
  @ApiGetTodoProblems()
  async findOne(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', TodoIdPipe) id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TodoDto | undefined> {
    const todo = await this.todos.findOne(user.id, id);
    if (ifNoneMatchMatches(ifNoneMatch, todo.version)) {
      void reply.status(HttpStatus.NOT_MODIFIED).header('etag', formatEtag(todo.version));
      return undefined;
    }
    return this.withEtag(reply, todo);
  }

  @Patch(':id')
  @ApiTodoIdParam()
  @Scopes('todos:write')
  @RouteSchema(TODO_RESPONSE)
  @ApiOperation({
    operationId: 'updateTodo',
    summary: 'Change any of title, description, completed (at least one).',
  })
  @ApiBody({ type: UpdateTodoDto })
  @ApiIfMatch()
  @ApiOkResponse({ type: TodoDto, headers: ETAG_RESPONSE_HEADER, description: 'The changed todo.' })
  @ApiUpdateTodoProblems()
  async update(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', TodoIdPipe) id: string,
    @Body() body: UpdateTodoDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TodoDto> {
    const todo = await this.todos.update(user.id, id, toTodoChanges(body), parseIfMatch(ifMatch));
    return this.withEtag(reply, todo);
  }

  @Delete(':id')
  @ApiTodoIdParam()
  @Scopes('todos:write')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ operationId: 'deleteTodo', summary: 'Delete one of your todos.' })
  @ApiIfMatch()
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiDeleteTodoProblems()
  async remove(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', TodoIdPipe) id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.todos.remove(user.id, id, parseIfMatch(ifMatch));
  }

  private withEtag(reply: FastifyReply, todo: TodoRecord): TodoDto {
    void reply.header('etag', formatEtag(todo.version));
    return TodoDto.from(todo);
  }
}
