using WebApp.Hosting;

// "migrate <name>": the release phase's command (it records the migration in the data store and exits).
if (args is ["migrate", ..])
    return MigrateCommand.Run(args[1..], DataStoreOptions.FromEnvironment().Path, Console.Out, Console.Error);

WebAppHost.Create(args).Run();
return 0;

public partial class Program;
