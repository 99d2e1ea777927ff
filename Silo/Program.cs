return await PoolAI.Silo.Hosting.SiloHost.RunAsync(args);
