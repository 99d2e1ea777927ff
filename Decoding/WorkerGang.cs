namespace PoolAI.Decoding;

/// <summary>A piece of work cut into parts that may run on different threads; each part writes its own outputs only.</summary>
internal interface IParallelWork
{
    /// <summary>Does part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    void Run(int part, int parts);
}

/// <summary>
/// The calling thread and <c>threads − 1</c> helper threads running the parts of one <see cref="IParallelWork"/> at a
/// time. Helpers spin briefly for the next piece (a decoding pass hands out dozens a millisecond), then sleep.
/// </summary>
internal sealed class WorkerGang : IDisposable
{
    private const int SpinIterations = 20_000;

    private readonly Helper[] _helpers;
    private IParallelWork? _work;
    private int _generation;
    private int _pending;
    private volatile bool _stopping;

    public WorkerGang(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 2);
        _helpers = Enumerable.Range(1, threads - 1).Select(part => new Helper(this, part)).ToArray();
    }

    public int Threads => _helpers.Length + 1;

    /// <summary>Runs every part of <paramref name="work"/>, part 0 on the calling thread, and returns when all are done.</summary>
    /// <exception cref="AggregateException">A part threw; the others still ran to the end.</exception>
    public void Run(IParallelWork work)
    {
        _work = work;
        Volatile.Write(ref _pending, _helpers.Length);
        Interlocked.Increment(ref _generation);
        foreach (var helper in _helpers)
            helper.Wake();
        Exception? own = null;
        try
        {
            work.Run(0, Threads);
        }
        catch (Exception error)
        {
            own = error;
        }

        var spinner = default(SpinWait);
        while (Volatile.Read(ref _pending) > 0)
            spinner.SpinOnce(sleep1Threshold: -1);
        var errors = _helpers.Select(h => h.TakeError()).Prepend(own).OfType<Exception>().ToArray();
        if (errors.Length > 0)
            throw new AggregateException(errors);
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var helper in _helpers)
            helper.Stop();
    }

    private sealed class Helper
    {
        private readonly WorkerGang _gang;
        private readonly int _part;
        private readonly SemaphoreSlim _wake = new(0);
        private readonly Thread _thread;
        private int _sleeping;
        private Exception? _error;

        public Helper(WorkerGang gang, int part)
        {
            _gang = gang;
            _part = part;
            _thread = new Thread(Loop) { IsBackground = true, Name = $"poolai-decoder-{part}" };
            _thread.Start();
        }

        public void Wake()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1)
                _wake.Release();
        }

        public Exception? TakeError() => Interlocked.Exchange(ref _error, null);

        public void Stop()
        {
            Wake();
            _thread.Join();
            _wake.Dispose();
        }

        private void Loop()
        {
            var seen = 0;
            while (true)
            {
                var spins = 0;
                while (Volatile.Read(ref _gang._generation) == seen && !_gang._stopping)
                {
                    if (++spins < SpinIterations)
                    {
                        Thread.SpinWait(8);
                        continue;
                    }

                    // Sleep, unless work came between the last look and announcing it.
                    Volatile.Write(ref _sleeping, 1);
                    if (Volatile.Read(ref _gang._generation) != seen || _gang._stopping)
                    {
                        if (Interlocked.Exchange(ref _sleeping, 0) == 0)
                            _wake.Wait();
                        break;
                    }

                    _wake.Wait();
                    spins = 0;
                }

                if (_gang._stopping)
                    return;
                seen = Volatile.Read(ref _gang._generation);
                try
                {
                    _gang._work!.Run(_part, _gang.Threads);
                }
                catch (Exception error)
                {
                    _error = error;
                }

                Interlocked.Decrement(ref _gang._pending);
            }
        }
    }
}
