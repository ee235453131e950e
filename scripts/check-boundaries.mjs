// Runs the dependency rules of .dependency-cruiser.cjs over src/ and fails on a violation.
// Through dependency-cruiser's API rather than its `depcruise` command: the command
// refuses Node 20, which this service still supports (package.json "engines").
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const options = await extractDepcruiseOptions('./.dependency-cruiser.cjs');
const result = await cruise(['src'], { ...options, validate: true, outputType: 'err' }, {}, { tsConfig: extractTSConfig('tsconfig.json') });
process.stdout.write(result.output);
process.exitCode = result.exitCode;
