"""A small stdio program (a + b from one line of stdin) in every language.

`oorl doctor --run` judges them to prove the sandbox works end to end; tests and benchmarks reuse them.
"""

ADD: dict[str, str] = {
    "python": "a, b = map(int, input().split())\nprint(a + b)",
    "c": '#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);return 0;}',
    "cpp": "#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}",
    "java": "import java.util.*;\npublic class Main{public static void main(String[] x){Scanner s=new Scanner(System.in);"
    "long a=s.nextLong(),b=s.nextLong();System.out.println(a+b);}}",
    "php": "<?php\n[$a,$b]=array_map('intval',explode(' ',trim(fgets(STDIN))));\necho $a+$b, \"\\n\";",
    "bash": "read a b\necho $((a+b))",
    "javascript": "const [a,b]=require('fs').readFileSync(0,'utf8').trim().split(/\\s+/).map(Number);console.log(a+b);",
    "typescript": "declare var require: any;\nconst [a, b]: number[] = require('fs').readFileSync(0, 'utf8').trim()"
    ".split(/\\s+/).map(Number);\nconsole.log(a + b);",
    "go": 'package main\nimport "fmt"\nfunc main(){var a,b int64\nfmt.Scan(&a,&b)\nfmt.Println(a+b)}',
    "csharp": "using System;\nclass P{static void Main(){var p=Console.ReadLine().Split(' ');"
    "Console.WriteLine(long.Parse(p[0])+long.Parse(p[1]));}}",
    "scala": "object Main { def main(args: Array[String]): Unit = { val Array(a, b) = scala.io.StdIn.readLine().trim"
    '.split(" ").map(_.toLong); println(a + b) } }',
    "haskell": "main :: IO ()\nmain = do\n  [a, b] <- fmap (map read . words) getLine :: IO [Integer]\n  print (a + b)",
    "rust": "use std::io::*;\nfn main(){let mut s=String::new();stdin().read_line(&mut s).unwrap();"
    'let v:Vec<i64>=s.split_whitespace().map(|x|x.parse().unwrap()).collect();println!("{}",v[0]+v[1]);}',
}
