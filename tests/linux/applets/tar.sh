# tar: create an archive, list it, extract it elsewhere and compare
mkdir -p t/x
tar -cf t/t.tar tree fruit.txt
tar -tf t/t.tar
tar -xf t/t.tar -C t/x
find t/x | sort
cmp t/x/fruit.txt fruit.txt && echo same
md5sum t/x/tree/a/one.txt tree/a/one.txt | cut -d ' ' -f 1 | uniq | wc -l
tar -czf t/t.tgz tree && tar -tzf t/t.tgz
rm -r t
