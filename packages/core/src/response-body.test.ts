import type { Dispatcher } from 'undici'
import { describe, expect, it } from 'vitest'
import { ResponseBody } from './response-body.ts'

/** Records what the body asks of undici's controller (the real one is exercised by client.test.ts). */
function recordingController() {
  const calls: string[] = []
  const controller = {
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    abort: (reason: Error) => calls.push(`abort: ${reason.message}`),
  } as unknown as Dispatcher.DispatchController
  return { calls, controller }
}

describe('ResponseBody', () => {
  it('joins what arrived while the reader was busy into one read', () => {
    const { controller } = recordingController()
    const body = new ResponseBody(controller)
    body.push(Buffer.from('{"a":1}\n'))
    body.push(Buffer.from('{"b":2}\n'))
    expect(body.read()?.toString()).toBe('{"a":1}\n{"b":2}\n')
    expect(body.read()).toBeNull()
  })

  it('pauses the socket past the high-water mark and resumes it once read', () => {
    const { calls, controller } = recordingController()
    const body = new ResponseBody(controller, 10)
    body.push(Buffer.alloc(6))
    expect(calls).toEqual([])
    body.push(Buffer.alloc(6))
    body.push(Buffer.alloc(6))
    expect(calls).toEqual(['pause'])
    expect(body.read()?.length).toBe(18)
    expect(calls).toEqual(['pause', 'resume'])
  })

  it('tells its listener of data, end and failure, and reports them', () => {
    const { controller } = recordingController()
    const body = new ResponseBody(controller)
    let told = 0
    body.listen(() => told++)
    body.push(Buffer.from('x'))
    body.end()
    expect(told).toBe(2)
    expect(body.ended).toBe(true)
    body.fail(new Error('late'))
    expect(body.failure).toBeUndefined()
    const failing = new ResponseBody(controller)
    failing.fail(new Error('connection lost'))
    expect(failing.failure).toEqual({ error: new Error('connection lost') })
  })

  it('destroy aborts an unfinished response once, and not a finished one', () => {
    const { calls, controller } = recordingController()
    const body = new ResponseBody(controller)
    body.push(Buffer.from('partial'))
    body.destroy(new Error('closed by the reader'))
    body.destroy()
    expect(calls).toEqual(['abort: closed by the reader'])
    expect(body.read()).toBeNull()
    const finished = recordingController()
    const done = new ResponseBody(finished.controller)
    done.end()
    done.destroy()
    expect(finished.calls).toEqual([])
  })

  it('collect keeps at most the limit and stops the response there', async () => {
    const { calls, controller } = recordingController()
    const body = new ResponseBody(controller)
    const collected = body.collect(5)
    body.push(Buffer.from('abc'))
    await Promise.resolve()
    body.push(Buffer.from('defgh'))
    expect((await collected).toString()).toBe('abcde')
    expect(calls).toEqual(['abort: The response was closed'])
  })
})
